/** Forms the pages share: labelled fields, and a submit that shows its failure in words. */
import { fill, h, problem } from './ui.js';
import { explain } from './node.js';

/** A labelled input. */
export function field(label: string, attrs: Record<string, string>): [HTMLLabelElement, HTMLInputElement] {
  const input = h('input', attrs);
  return [h('label', { class: 'field' }, h('span', {}, label), input), input];
}

/** A form whose submit runs `action`, disabled while it runs, its error shown under it. */
export function form(fields: HTMLElement[], button: string, action: () => Promise<void>): HTMLFormElement {
  const error = h('div', { 'aria-live': 'assertive' });
  const submit = h('button', { type: 'submit' }, button);
  const f = h('form', { class: 'stack' }, ...fields, submit, error);
  f.addEventListener('submit', (event) => {
    event.preventDefault();
    fill(error);
    submit.disabled = true;
    action()
      .catch((e: unknown) => fill(error, problem(explain(e))))
      .finally(() => {
        submit.disabled = false;
      });
  });
  return f;
}
