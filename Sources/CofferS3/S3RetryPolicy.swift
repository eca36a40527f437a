import Foundation

/// When and how long an S3 request is retried: on 5xx, 429 (and S3's 503 SlowDown), and on
/// connection failures and time-outs; never on another 4xx. The delay before retry `n` (1-based)
/// is "full jitter": a random time between 0 and min(cap, base × 2^(n-1)).
public struct S3RetryPolicy: Sendable, Equatable {
    /// Attempts in all (the first one included).
    public var attempts: Int
    public var base: Double
    public var cap: Double

    public init(attempts: Int = 8, base: Double = 0.2, cap: Double = 20) {
        self.attempts = attempts
        self.base = base
        self.cap = cap
    }

    /// Whether a response with this status is worth another attempt.
    public static func isRetryable(status: Int) -> Bool { status == 429 || (500...599).contains(status) }

    /// The longest wait before retry `retry` (1 for the first retry).
    public func ceiling(retry: Int) -> Double {
        min(cap, base * pow(2, Double(max(0, retry - 1))))
    }

    /// The wait before retry `retry`, with `unit` a random number in [0, 1).
    public func delay(retry: Int, unit: Double) -> Double { ceiling(retry: retry) * min(max(unit, 0), 1) }
}
