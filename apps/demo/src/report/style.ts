// Colour only when a person is looking: stdout is a TTY and NO_COLOR is unset.

export interface Style {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly accent: (text: string) => string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export const plainStyle: Style = { bold: (t) => t, dim: (t) => t, accent: (t) => t };
export const colourStyle: Style = { bold: wrap(1, 22), dim: wrap(2, 22), accent: wrap(36, 39) };

export function styleFor(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): Style {
  const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return stream.isTTY === true && !noColour ? colourStyle : plainStyle;
}
