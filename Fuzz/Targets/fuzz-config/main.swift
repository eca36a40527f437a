// libFuzzer entry point of fuzz-config; the harness and its invariants: Harness.config (Fuzz/Harness).
import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Harness.run(data, size, Harness.config)
}
