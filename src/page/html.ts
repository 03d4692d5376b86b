// A tiny escaping tagged template for building HTML: every interpolated value is escaped.

/**
 * A piece of HTML that is already safe to emit as is: the result of `html```
 * or of `raw()`. Interpolating it into `html``` does not escape it again.
 */
export class HtmlString {
  /** The HTML text. */
  readonly value: string

  constructor(value: string) {
    this.value = value
  }

  toString(): string {
    return this.value
  }
}

/** What may be interpolated into `html```: arrays are joined, `null`, `undefined` and `false` vanish. */
export type HtmlValue =
  | HtmlString
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | readonly HtmlValue[]

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
}

const UNSAFE = /[&<>"'`]/g
const HAS_UNSAFE = /[&<>"'`]/

/**
 * Escapes `& < > " '` and the backtick, so the text is safe in element content and in
 * quoted attribute values.
 *
 * @example escapeHtml('<a href="x">') // '&lt;a href=&quot;x&quot;&gt;'
 */
export function escapeHtml(text: string): string {
  // Most text has nothing to escape; testing first spares the replace and its callback.
  if (!HAS_UNSAFE.test(text)) return text
  return text.replace(UNSAFE, (char) => ESCAPES[char] ?? char)
}

function render(value: HtmlValue): string {
  if (value instanceof HtmlString) return value.value
  if (Array.isArray(value)) {
    let out = ''
    for (const item of value as readonly HtmlValue[]) out += render(item)
    return out
  }
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

/**
 * Tagged template that escapes every interpolated value unless it is an `HtmlString`
 * (the result of another `html``` or of `raw()`); arrays are joined with nothing between.
 *
 * @example
 * const items = names.map((name) => html`<li>${name}</li>`)
 * const list = html`<ul>${items}</ul>`
 * String(list) // '<ul><li>&lt;b&gt;</li></ul>' for names ['<b>']
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): HtmlString {
  let out = strings[0] ?? ''
  for (let i = 0; i < values.length; i++) {
    out += render(values[i]) + (strings[i + 1] ?? '')
  }
  return new HtmlString(out)
}

/**
 * Marks a string as safe HTML, emitted without escaping. Only for trusted constants,
 * never for anything that came from a request, a database or an option.
 *
 * @example html`<p>${raw('&nbsp;')}</p>`
 */
export function raw(text: string): HtmlString {
  return new HtmlString(text)
}
