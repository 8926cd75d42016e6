// The judges (judges/): tslab's module loader resolves files, not folders, so notebooks and the
// modules they import reach judges/index.ts through this file.
export * from './judges/index';
