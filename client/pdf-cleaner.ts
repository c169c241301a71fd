/**
 * Entry of assets/pdf-cleaner.js: pdf-lib and lib/pdf-clean.ts, on their own. lib/metadata.ts
 * loads this script (with its Subresource Integrity hash) only when a survivor attaches a PDF,
 * so the survivor pages' weight budget does not carry pdf-lib (bench/page-size.ts LAZY_ASSETS).
 */
import { cleanPdf } from './lib/pdf-clean';

(globalThis as { AwaazPdfCleaner?: unknown }).AwaazPdfCleaner = { cleanPdf };
