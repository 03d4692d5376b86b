// The status page's stylesheet, served from the app itself, and a hash of it for caching.

import { createHash } from 'node:crypto'

/**
 * The whole stylesheet of the status page. Loads no font or image from outside the app;
 * the tooltips are pure CSS, shown on hover and on keyboard focus.
 */
export const STATUS_CSS = `/* server-status: status page. Look forked from Statsig's open-source status page. */
*, *::before, *::after { box-sizing: border-box; }

html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }

body {
  margin: 0;
  min-height: 100vh;
  background: #f3f4f6;
  color: #1f2937;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif;
  font-size: 15px;
  line-height: 1.45;
}

a { color: #1e3a5f; font-weight: 600; text-decoration: none; }
a:hover, a:focus-visible { text-decoration: underline; }
a:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; border-radius: 2px; }

.panel {
  max-width: 920px;
  margin: 16px auto 0;
  padding: 36px 50px 40px;
  background: #fff;
  border-radius: 8px;
  box-shadow: 0 1px 2px rgba(17, 24, 39, 0.04), 0 8px 24px rgba(17, 24, 39, 0.06);
}

/* Heading: the title and the "SYSTEM STATUS" chip, centred. */
.page-head {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  justify-content: center;
  gap: 8px 20px;
  margin-bottom: 28px;
  text-align: center;
}
.page-head h1 {
  margin: 0;
  font-size: 34px;
  font-weight: 500;
  line-height: 1.2;
  color: #111827;
  letter-spacing: -0.01em;
  overflow-wrap: anywhere;
}
.chip {
  display: inline-block;
  padding: 5px 8px;
  border-radius: 4px;
  background: #f3f4f6;
  color: #374151;
  font-size: 15px;
  font-weight: 600;
  letter-spacing: 0.02em;
  text-transform: uppercase;
  white-space: nowrap;
}

/* Banner for a storage warning. */
.notice {
  margin: 0 0 16px;
  padding: 10px 14px;
  border: 1px solid #f3c77a;
  border-left-width: 4px;
  border-radius: 6px;
  background: #fff8eb;
  color: #6b4100;
  font-size: 14px;
  overflow-wrap: anywhere;
}

/* The overall status line. */
.overall {
  display: flex;
  align-items: center;
  gap: 10px;
  margin: 0 0 8px;
  padding: 12px 16px;
  border-radius: 6px;
  font-weight: 600;
}
.overall-dot { flex: none; width: 10px; height: 10px; border-radius: 50%; background: currentColor; }
.overall-operational { background: #edf7ee; color: #2e6b31; }
.overall-partial_outage { background: #fef4e4; color: #8a5300; }
.overall-major_outage { background: #fdecec; color: #b42318; }

/* One card per route. */
.route {
  margin-top: 16px;
  padding: 24px;
  border: 1px solid #e5e7eb;
  border-radius: 6px;
}
.route-head {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 6px 16px;
}
.route-name {
  margin: 0;
  color: #333;
  font-size: 15px;
  font-weight: 700;
  letter-spacing: 0.01em;
  text-transform: uppercase;
  overflow-wrap: anywhere;
}
.badge {
  display: inline-block;
  padding: 5px 10px;
  border-radius: 999px;
  color: #fff;
  font-size: 12px;
  font-weight: 700;
  line-height: 1.2;
  white-space: nowrap;
}
.badge-operational { background: #46a049; }
.badge-partial_outage { background: #e08e0b; }
.badge-major_outage { background: #dc3c42; }
.badge-no_data { background: #e5e7eb; color: #4b5563; }

.route-doc {
  margin: 8px 0 0;
  color: #6b7280;
  font-size: 13px;
  white-space: pre-line;
  overflow-wrap: anywhere;
}
.route-meta {
  display: flex;
  flex-wrap: wrap;
  align-items: baseline;
  justify-content: space-between;
  gap: 4px 16px;
  margin: 10px 0 12px;
  color: #6b7280;
  font-size: 12px;
}
.route-rule {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12px;
  overflow-wrap: anywhere;
}
.route-stats { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-left: auto; }
.route-stats strong { font-weight: 600; color: #4b5563; }
.avg { color: #9ca3af; }

/* The row of days: squares share the card's width and shrink on narrow screens. */
.days {
  display: flex;
  gap: 6px;
  margin: 0;
  padding: 0;
  list-style: none;
}
.days-many { gap: 2px; }
/* A year of days: no gaps, the squares become one continuous strip. */
.days-dense { gap: 0; }
.day {
  position: relative;
  flex: 1 1 0;
  min-width: 0;
  height: 30px;
  border-radius: 3px;
  background: #f0f0f0;
  cursor: default;
  outline: none;
  transition: filter 0.12s;
}
.days-many .day { border-radius: 2px; }
.days-dense .day { border-radius: 0; }
.days-dense .day:first-child { border-radius: 3px 0 0 3px; }
.days-dense .day:last-child { border-radius: 0 3px 3px 0; }
/* Status colours; --dot is the colour of the dot in the tooltip. */
.day.ok { background: #4caf50; --dot: #4caf50; }
.day.partial { background: #f5a623; --dot: #f5a623; }
.day.major { background: #e5484d; --dot: #e5484d; }
.day.none { background: #f0f0f0; --dot: #d1d5db; }
.day:hover { filter: brightness(0.9); }
.day:focus-visible { box-shadow: 0 0 0 2px #fff, 0 0 0 4px #2563eb; z-index: 2; }

/*
 * Tooltips: the square's own aria-label, drawn by ::after while the square is hovered or
 * focused; ::before is the arrow. Neither exists otherwise, so a page of many squares carries
 * no hidden boxes. The label's line breaks are newlines, kept by pre-line.
 */
.day::before, .day::after {
  position: absolute;
  left: 50%;
  pointer-events: none;
  animation: tip-in 0.12s ease-out;
}
.day::before {
  bottom: calc(100% + 3px);
  z-index: 11;
  margin-left: -6px;
  border: 6px solid transparent;
  border-top-color: #1f2937;
  border-bottom-width: 0;
}
.day::after {
  bottom: calc(100% + 9px);
  z-index: 10;
  width: max-content;
  max-width: 240px;
  padding: 8px 11px;
  border-radius: 6px;
  /* The status dot sits before the first line, in the room left by text-indent. */
  background: radial-gradient(circle closest-side, var(--dot) 90%, transparent) 11px 13px / 8px 8px no-repeat, #1f2937;
  color: #f3f4f6;
  box-shadow: 0 6px 16px rgba(17, 24, 39, 0.22);
  font-size: 12px;
  font-weight: 400;
  line-height: 18px;
  text-align: left;
  text-indent: 14px;
  white-space: pre-line;
  transform: translateX(-50%);
}
.day:hover::before, .day:focus::before { content: ""; }
.day:hover::after, .day:focus::after { content: attr(aria-label); }
.day.left::after { left: 0; transform: none; }
.day.right::after { left: auto; right: 0; transform: none; }
@keyframes tip-in { from { opacity: 0; } }

.axis {
  display: flex;
  justify-content: space-between;
  margin-top: 6px;
  color: #9ca3af;
  font-size: 11px;
}

.empty {
  margin: 16px 0 0;
  padding: 40px 16px;
  border: 1px dashed #d1d5db;
  border-radius: 6px;
  color: #6b7280;
  text-align: center;
}

.updated {
  margin: 24px 0 0;
  color: #9ca3af;
  font-size: 12px;
  text-align: center;
}

.page-foot {
  margin: 72px auto 40px;
  padding: 0 16px;
  color: #6b7280;
  font-size: 14px;
  text-align: center;
}
.page-foot p { margin: 4px 0; }
.unmatched { color: #9ca3af; font-size: 12px; }

@media (max-width: 640px) {
  body { font-size: 14px; }
  .panel { margin: 0; padding: 24px 14px 28px; border-radius: 0; }
  .page-head { margin-bottom: 20px; }
  .page-head h1 { font-size: 26px; }
  .chip { font-size: 13px; }
  .route { padding: 16px 14px; }
  .days { gap: 3px; }
  .days-many { gap: 1px; }
  .days-dense { gap: 0; }
  .day { height: 26px; border-radius: 2px; }
  .day::after { max-width: 200px; }
  .page-foot { margin-top: 40px; }
}

@media (prefers-reduced-motion: reduce) {
  .day { transition: none; }
  .day::before, .day::after { animation: none; }
}

/* Windows high-contrast mode drops backgrounds; keep the status colours, they carry meaning. */
@media (forced-colors: active) {
  .day, .badge, .overall-dot { forced-color-adjust: none; }
  .day:focus-visible { outline: 2px solid Highlight; }
}
`

/**
 * A strong ETag for the content: the quoted hex SHA-1.
 *
 * @example contentEtag('body{}') // '"e5c6…"'
 */
export function contentEtag(content: string): string {
  return `"${createHash('sha1').update(content).digest('hex')}"`
}

/** ETag of `STATUS_CSS`, for `ETag` / `If-None-Match` when serving it. */
export const STATUS_CSS_ETAG: string = contentEtag(STATUS_CSS)
