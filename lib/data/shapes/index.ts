// Shapes: a compositional text-to-image world with exact ground truth. See world.ts for the
// vocabulary and held-out pairs, captions.ts for the caption language, generate.ts for samples.
export * from './world';
export * from './render';
export * from './layout';
export * from './captions';
export * from './generate';
