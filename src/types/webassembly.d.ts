// The part of the WebAssembly JavaScript API that s3tx uses. TypeScript declares it only in its DOM
// and web worker libraries, which would bring browser globals into a Node-only project.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
