import { h } from '../ui/dom.js';

/** Files larger than this are refused before they are read (a saved counterexample is a few KB to a few MB). */
const MAX_BYTES = 32 * 1024 * 1024;

/**
 * "Load counterexample…": a file picker, and `target` accepting a dropped file. `onFile` gets the
 * name and text of the file; `onError` a one-line reason the file was not read.
 */
export function counterexampleLoader(target: HTMLElement, onFile: (name: string, text: string) => void, onError: (message: string) => void): HTMLLabelElement {
  const read = (file: File | undefined): void => {
    if (file === undefined) return;
    if (file.size > MAX_BYTES) {
      onError(`${file.name} is ${file.size} bytes; a counterexample file is at most ${MAX_BYTES}`);
      return;
    }
    file.text().then(
      (text) => {
        onFile(file.name, text);
      },
      (e: unknown) => {
        onError(`${file.name} could not be read: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  };
  const input = h('input', { type: 'file', accept: '.json,application/json', 'data-testid': 'cx-file' });
  input.addEventListener('change', () => {
    read(input.files?.[0]);
    input.value = '';
  });
  target.addEventListener('dragover', (e) => {
    if (e.dataTransfer?.types.includes('Files') === true) e.preventDefault();
  });
  target.addEventListener('drop', (e) => {
    const file = e.dataTransfer?.files[0];
    if (file === undefined) return;
    e.preventDefault();
    read(file);
  });
  return h('label', { class: 'cx-load', title: 'a file kernsim explore --save wrote (or drop it on the lab)' }, 'Load counterexample… ', input);
}
