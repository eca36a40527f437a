// libFuzzer entry point of fuzz-zip; the harness and its invariants: Harness.zip (Fuzz/Harness).
import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Harness.run(data, size, Harness.zip)
}
