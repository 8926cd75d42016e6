// Words of a caption, as every part of the project splits them (the tokenizer, dataset statistics).
// Here, under data/, so that data/ needs nothing from text/ (text/ builds on data/).

/** Lower-cases and splits on whitespace; commas and full stops are dropped, hyphens joined ("t-shirt" -> "tshirt"). */
export function splitWords(text: string): string[] {
  return text.toLowerCase().replace(/-/g, '').replace(/[,.!?;:]/g, ' ').trim().split(/\s+/).filter(Boolean);
}
