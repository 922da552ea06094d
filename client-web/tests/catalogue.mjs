// The node tests' English: the page modules take their words from the catalogue (i18n/), as the pages do.
import { readFileSync } from 'node:fs';
import { setCatalogue } from '../i18n/i18n.js';

export function readCatalogue(code) {
  return JSON.parse(readFileSync(new URL(`../i18n/${code}.json`, import.meta.url), 'utf8'));
}

export function useEnglish() {
  setCatalogue('en', readCatalogue('en'));
}
