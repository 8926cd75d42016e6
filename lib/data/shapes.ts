// The Shapes dataset (shapes/): tslab's module loader resolves files, not folders, so notebooks and the
// modules they import reach shapes/index.ts through this file.
export * from './shapes/index';
