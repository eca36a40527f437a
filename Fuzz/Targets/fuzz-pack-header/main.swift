// libFuzzer entry point of fuzz-pack-header; the harness and its invariants: Harness.packHeader (Fuzz/Harness).
import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Harness.run(data, size, Harness.packHeader)
}
