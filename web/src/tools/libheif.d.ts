declare module "libheif-js/libheif-wasm/libheif.js" {
  const factory: unknown;
  export default factory;
}
