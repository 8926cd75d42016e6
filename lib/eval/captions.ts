// The captioning metrics (captions/): tslab's module loader resolves files, not folders, so notebooks and the
// modules they import reach captions/index.ts through this file.
export * from './captions/index';
