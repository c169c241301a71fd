/**
 * A lazy language's catalog travels as its values only, in the order of en.ts's keys
 * (i18n/packing.ts): it must come back whole, and anything not shaped like it must be refused,
 * so that a page falls back to English rather than showing messages under the wrong keys.
 */
import { en } from '../../i18n/en';
import { LAZY_CATALOGS, catalogAsset } from '../../i18n/lazy-catalogs';
import { packCatalog, unpackCatalog } from '../../i18n/packing';
import { ur } from '../../i18n/ur';

test('the Urdu catalog comes back whole from its values, each under its key', () => {
  const values = catalogAsset('ur');
  expect(values).toHaveLength(Object.keys(en).length);
  expect(values[Object.keys(en).indexOf('common.quickExit')]).toBe(ur['common.quickExit']);
  expect(unpackCatalog(values)).toEqual(LAZY_CATALOGS.ur);
  expect(unpackCatalog(JSON.parse(JSON.stringify(packCatalog(ur))))).toEqual(ur);
});

test('values of the wrong number or kind are refused', () => {
  const values = packCatalog(ur);
  expect(unpackCatalog(values.slice(1))).toBeUndefined();
  expect(unpackCatalog([...values, 'one more'])).toBeUndefined();
  expect(unpackCatalog(values.map((v, i) => (i === 3 ? 3 : v)))).toBeUndefined();
  expect(unpackCatalog({ ...ur })).toBeUndefined();
  expect(unpackCatalog(undefined)).toBeUndefined();
});
