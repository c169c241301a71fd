/**
 * The survivor's sharing choices, as form controls (share page at submission, return page
 * later): whether advocates may read the testimony to propose a publication, and whether it
 * is counted in the public statistics with which fields disclosed. Nothing is shared or
 * disclosed unless ticked or chosen.
 */
import { keyId, readersOf, type Keyset } from '../../protocol/survivor';
import type { Sharing, StatisticsChoice } from '../../protocol/api';
import { CONTEXT_VALUES, FIRST_STATISTICS_YEAR, PROVINCE_VALUES, type Context, type Province } from './testimony-values';
import { el } from './dom';
import { localize } from './messages';

export interface SharingControls {
  element: HTMLFieldSetElement;
  /** `context` is the testimony's own answer to "where", disclosed only if ticked */
  read(context: string): Sharing;
}

function checkbox(
  id: string,
  name: string,
  label: Parameters<typeof localize>[1],
  checked: boolean,
): { label: HTMLLabelElement; input: HTMLInputElement } {
  const input = el('input', { attrs: { type: 'checkbox', id, name } });
  input.checked = checked;
  const text = el('span');
  localize(text, label);
  return { input, label: el('label', { className: 'inline', attrs: { for: id } }, [input, ' ', text]) };
}

function select(
  id: string,
  name: string,
  label: Parameters<typeof localize>[1],
  options: { value: string; key?: Parameters<typeof localize>[1]; text?: string }[],
  value: string,
): { label: HTMLLabelElement; input: HTMLSelectElement } {
  const labelEl = el('label', { attrs: { for: id } });
  localize(labelEl, label);
  const input = el(
    'select',
    { attrs: { id, name, autocomplete: 'off' } },
    options.map((o) => {
      const option = el('option', { attrs: { value: o.value } });
      if (o.key) localize(option, o.key);
      else option.textContent = o.text ?? o.value;
      return option;
    }),
  );
  input.value = value;
  return { label: labelEl, input };
}

/** Builds the controls with ids prefixed by `prefix` (one set per case on the return page). */
export function sharingControls(
  prefix: string,
  current: Sharing = { advocatesMayRead: false, statistics: null },
  thisYear = new Date().getUTCFullYear(),
): SharingControls {
  const stats = current.statistics;
  const advocates = checkbox(`${prefix}-advocates`, 'advocates', 'share.advocatesLabel', current.advocatesMayRead);
  const count = checkbox(`${prefix}-count`, 'count', 'share.countLabel', stats !== null);
  const hint = el('p', { className: 'hint' });
  localize(hint, 'share.countHint');
  const context = checkbox(`${prefix}-context`, 'discloseContext', 'share.discloseContext', stats?.context !== undefined);
  const years = Array.from({ length: thisYear - FIRST_STATISTICS_YEAR + 1 }, (_, i) => String(thisYear - i));
  const year = select(
    `${prefix}-year`,
    'year',
    'share.yearLabel',
    [{ value: '', key: 'share.notDisclosed' }, ...years.map((y) => ({ value: y }))],
    stats?.year !== undefined ? String(stats.year) : '',
  );
  const province = select(
    `${prefix}-province`,
    'province',
    'share.provinceLabel',
    [{ value: '', key: 'share.notDisclosed' }, ...PROVINCE_VALUES.map((p) => ({ value: p, key: `province.${p}` as const }))],
    stats?.province ?? '',
  );
  const details = el('div', { className: 'disclose' }, [hint, context.label, year.label, year.input, province.label, province.input]);
  const sync = () => {
    for (const input of [context.input, year.input, province.input]) input.disabled = !count.input.checked;
  };
  count.input.addEventListener('change', sync);
  sync();

  const legend = el('legend');
  localize(legend, 'share.sharingLegend');
  const element = el('fieldset', { className: 'sharing' }, [legend, advocates.label, count.label, details]);
  return {
    element,
    read(testimonyContext) {
      let statistics: StatisticsChoice | null = null;
      if (count.input.checked) {
        statistics = {};
        if (context.input.checked && (CONTEXT_VALUES as readonly string[]).includes(testimonyContext))
          statistics.context = testimonyContext as Context;
        if (year.input.value) statistics.year = Number(year.input.value);
        if (province.input.value) statistics.province = province.input.value as Province;
      }
      return { advocatesMayRead: advocates.input.checked, statistics };
    },
  };
}

/** Who reads a new testimony: the moderators, and the advocates too if the survivor lets them (each once). */
export function testimonyReaders(keyset: Keyset, advocatesMayRead: boolean): Uint8Array[] {
  const all = [...readersOf(keyset), ...(advocatesMayRead ? readersOf(keyset, 'advocate') : [])];
  const seen = new Set<string>();
  return all.filter((pk) => {
    const kid = keyId(pk);
    if (seen.has(kid)) return false;
    seen.add(kid);
    return true;
  });
}
