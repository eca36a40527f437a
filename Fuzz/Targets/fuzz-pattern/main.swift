// libFuzzer entry point of fuzz-pattern; the harness and its invariants: Harness.pattern (Fuzz/Harness).
import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Harness.run(data, size, Harness.pattern)
}
