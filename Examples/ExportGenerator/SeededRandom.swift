// SeededRandom.swift: the generator's only source of randomness.
//
// xoshiro256** seeded through SplitMix64. Every helper (bounded integers, shuffles,
// Poisson counts) is written out here instead of using the standard library's
// `Int.random(in:using:)` or `shuffle(using:)`, whose algorithms may change between
// Swift releases: the same flags must give the same bytes on every toolchain.

/// SplitMix64, used to expand a seed into xoshiro state and to derive sub-seeds.
struct SplitMix64 {
    private(set) var state: UInt64

    init(state: UInt64) {
        self.state = state
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A deterministic pseudo-random generator (xoshiro256**), never seeded from the system.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// A generator whose whole output is determined by `seed`.
    public init(seed: UInt64) {
        var mixer = SplitMix64(state: seed)
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
    }

    /// An independent generator for one named purpose (and index), derived from `seed`.
    ///
    /// Used where a value must not depend on how much randomness other parts consumed,
    /// e.g. the signed-URL tokens of one export.
    public init(seed: UInt64, stream: String, index: UInt64 = 0) {
        // FNV-1a over the label: stable across runs, unlike `Hasher`.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in stream.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        var mixer = SplitMix64(state: seed ^ hash)
        _ = mixer.next()
        self.init(seed: mixer.next() &+ index &* 0xD1B5_4A32_D192_ED03)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's method, unbiased); 0 when `bound <= 1`.
    mutating func below(_ bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }

    /// A uniform integer in `range`.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// A uniform integer in `range`; the lower bound when the range is empty.
    mutating func int(in range: Range<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound)
    }

    /// A uniform 64-bit integer in `range`.
    mutating func int64(in range: ClosedRange<Int64>) -> Int64 {
        let width = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        if width == 0 { return Int64(bitPattern: next()) }
        var product = next().multipliedFullWidth(by: width)
        if product.low < width {
            let threshold = (0 &- width) % width
            while product.low < threshold {
                product = next().multipliedFullWidth(by: width)
            }
        }
        return range.lowerBound &+ Int64(bitPattern: product.high)
    }

    /// A uniform double in `0..<1` (53 random bits).
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform double in `range`.
    mutating func double(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + unit() * (range.upperBound - range.lowerBound)
    }

    /// `true` with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }

    /// One element of a non-empty array.
    mutating func pick<T>(_ items: [T]) -> T {
        items[below(items.count)]
    }

    /// An index into `weights`, chosen proportionally to the weights.
    mutating func weightedIndex(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var target = unit() * total
        for (index, weight) in weights.enumerated() {
            target -= weight
            if target < 0 { return index }
        }
        return weights.count - 1
    }

    /// A Fisher–Yates shuffle.
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for index in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(index, below(index + 1))
        }
    }

    /// A standard normal variate (Box–Muller).
    mutating func normal() -> Double {
        let u1 = max(unit(), 0x1.0p-53)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// An exponential variate with the given mean.
    mutating func exponential(mean: Double) -> Double {
        -log(max(1 - unit(), 0x1.0p-53)) * mean
    }

    /// A Poisson-distributed count (Knuth for small means, rounded normal above 30).
    mutating func poisson(_ mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 30 {
            return max(0, Int((mean + mean.squareRoot() * normal()).rounded()))
        }
        let limit = exp(-mean)
        var product = unit()
        var count = 0
        while product > limit {
            product *= unit()
            count += 1
        }
        return count
    }

    /// `count` random characters from `alphabet`.
    mutating func string(count: Int, from alphabet: [Character]) -> String {
        var result = ""
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(alphabet[below(alphabet.count)]) }
        return result
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
