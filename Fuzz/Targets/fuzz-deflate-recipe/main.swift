// libFuzzer entry point of fuzz-deflate-recipe; the harness and its invariants: Harness.deflateRecipe (Fuzz/Harness).
import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Harness.run(data, size, Harness.deflateRecipe)
}
