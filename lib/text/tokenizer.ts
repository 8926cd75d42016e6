// Word-level tokenizer over the project's caption language (Shapes captions plus the MNIST and
// Fashion-MNIST class captions). Unknown words are an error that lists the vocabulary, unless the
// caller opts into mapping them to <unk>.
import { CrossflowError, invalidValue } from '../errors';
import { shapesCaptionWords } from '../data/shapes/captions';
import { classCaptions } from '../data/mnist';
import { splitWords } from '../data/words';

export const PAD = '<pad>';
export const UNK = '<unk>';
export const BOS = '<bos>';
export const EOS = '<eos>';
/** Stands in for a hidden word when the language model is pretrained by masked-word prediction. */
export const MASK = '<mask>';
export const SPECIAL_TOKENS = [PAD, UNK, BOS, EOS, MASK] as const;
export const PAD_ID = 0;
export const UNK_ID = 1;
export const BOS_ID = 2;
export const EOS_ID = 3;
export const MASK_ID = 4;

/** Longest caption, in tokens, including <bos> and <eos>; longer ones are an error. */
export const DEFAULT_MAX_TOKENS = 16;

export { splitWords } from '../data/words';

/** Every word of the caption language, sorted. */
export function captionLanguageWords(): string[] {
  const words = new Set(shapesCaptionWords());
  for (const dataset of ['mnist', 'fashion'] as const)
    for (let label = 0; label < 10; label++) for (const c of classCaptions(dataset, label)) splitWords(c).forEach((w) => words.add(w));
  return [...words].sort();
}

export interface TokenizeOptions {
  /** Sequence length n (default 16): shorter captions are padded, longer ones an error. */
  maxTokens?: number;
  /** Wrap each caption in <bos> ... <eos> (default true). */
  addSpecial?: boolean;
  /** 'error' (default): unknown words throw, listing the vocabulary; 'unk': map them to <unk>. */
  unknown?: 'error' | 'unk';
}

export interface TokenBatch {
  /** (B, n) token ids, PAD_ID after the end. */
  ids: Int32Array;
  /** (B, n) 1 for a token, 0 for padding. */
  mask: Float32Array;
  /** Tokens per caption (including specials). */
  lengths: number[];
  batch: number;
  maxTokens: number;
}

export class Tokenizer {
  readonly words: string[];
  private readonly index: Map<string, number>;

  constructor(words: string[] = captionLanguageWords()) {
    this.words = [...SPECIAL_TOKENS, ...words.filter((w) => !(SPECIAL_TOKENS as readonly string[]).includes(w))];
    this.index = new Map(this.words.map((w, i) => [w, i]));
  }

  get size(): number {
    return this.words.length;
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  idOf(word: string): number {
    const id = this.index.get(word);
    if (id === undefined) throw invalidValue('word', word, `one of the ${this.words.length - SPECIAL_TOKENS.length} vocabulary words: ${this.words.slice(SPECIAL_TOKENS.length).join(' ')}`);
    return id;
  }

  /** Ids of one caption (no padding). */
  encodeOne(text: string, opts: TokenizeOptions = {}): number[] {
    const words = splitWords(text);
    const unknownWords = words.filter((w) => !this.index.has(w));
    if (unknownWords.length > 0 && (opts.unknown ?? 'error') === 'error')
      throw new CrossflowError(
        `unknown word${unknownWords.length > 1 ? 's' : ''} ${unknownWords.map((w) => JSON.stringify(w)).join(', ')} in caption ${JSON.stringify(text)}; ` +
          `the vocabulary is: ${this.words.slice(SPECIAL_TOKENS.length).join(' ')} (or pass unknown: 'unk' to map unknown words to <unk>)`,
      );
    const ids = words.map((w) => this.index.get(w) ?? UNK_ID);
    return opts.addSpecial === false ? ids : [BOS_ID, ...ids, EOS_ID];
  }

  /** A padded batch: ids (B, n) and mask (B, n). */
  encode(captions: string[], opts: TokenizeOptions = {}): TokenBatch {
    const n = opts.maxTokens ?? DEFAULT_MAX_TOKENS;
    const B = captions.length;
    const ids = new Int32Array(B * n);
    const mask = new Float32Array(B * n);
    const lengths: number[] = [];
    captions.forEach((c, b) => {
      const seq = this.encodeOne(c, opts);
      if (seq.length > n) throw invalidValue('caption length', `${seq.length} tokens in ${JSON.stringify(c)}`, `at most maxTokens = ${n}`);
      seq.forEach((id, t) => {
        ids[b * n + t] = id;
        mask[b * n + t] = 1;
      });
      lengths.push(seq.length);
    });
    return { ids, mask, lengths, batch: B, maxTokens: n };
  }

  decode(ids: ArrayLike<number>, skipSpecial = true): string {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === EOS_ID && skipSpecial) break;
      if (skipSpecial && id < SPECIAL_TOKENS.length) continue;
      out.push(this.words[id] ?? UNK);
    }
    return out.join(' ');
  }
}

let shared: Tokenizer | null = null;
/** The tokenizer of the caption language (one instance per process). */
export function captionTokenizer(): Tokenizer {
  if (!shared) shared = new Tokenizer();
  return shared;
}
