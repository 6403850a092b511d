import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Catalog, parseCatalog } from '../shared/domain/catalog';
import { InvalidDocument } from '../shared/domain/errors';

export const defaultCatalogPath = fileURLToPath(new URL('../catalog/demo.catalog.json', import.meta.url));

/** Reads and validates a catalog file; every problem names its path in the file. */
export function loadCatalog(path = defaultCatalogPath): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidDocument(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InvalidDocument(path, [`(root): malformed JSON: ${(error as Error).message}`]);
  }
  return parseCatalog(document, path);
}
