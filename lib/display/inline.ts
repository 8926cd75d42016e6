// Inline display in a tslab notebook. tslab is loaded lazily: outside a kernel (CLI, tests)
// nothing is displayed and loading tslab would pull in its TypeScript compiler.
import { CrossflowError } from '../errors';

/** MIME type -> payload (text, or bytes that are sent base64-encoded as Jupyter wants). */
export type MimeBundle = Record<string, string | Buffer>;

interface TslabJupyter {
  lastWriteDisplayData: ((msg: { data: Record<string, string>; metadata: object; transient: object }, update: boolean) => void) | null;
}

/**
 * Sends one display output to the current notebook cell. Several MIME types in one output let
 * each front end pick what it renders best (e.g. nbconvert's HTML takes text/html before
 * image/png). `tslab.display` sends a single type without metadata, so this goes one level
 * down to the function `tslab.display` itself calls.
 */
export function displayBundle(bundle: MimeBundle, metadata: Record<string, unknown> = {}): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jupyter = require('tslab/dist/jupyter') as TslabJupyter;
  if (!jupyter.lastWriteDisplayData) {
    throw new CrossflowError(
      `inline display (${Object.keys(bundle).join(', ')}) works only inside a tslab notebook; outside one, write files (exportFigure, renderImageGrid, plotSvg, tableHtml)`,
    );
  }
  const data: Record<string, string> = {};
  for (const [mime, payload] of Object.entries(bundle)) data[mime] = Buffer.isBuffer(payload) ? payload.toString('base64') : payload;
  jupyter.lastWriteDisplayData({ data, metadata, transient: {} }, false);
}
