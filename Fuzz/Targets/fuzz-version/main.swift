// libFuzzer entry point of fuzz-version; the harness and its invariants: Harness.version (Fuzz/Harness).
import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Harness.run(data, size, Harness.version)
}
