// The dashboard's own images, served under /assets/ (drawn here, a few lines of SVG each): the logo, which is also
// the favicon of every page, and the icons of the links it adds to Bull Board's menu.

const svg = (body: string, viewBox = '0 0 24 24'): string => `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${viewBox}">${body}</svg>`;

/** Lines in Bull Board's muted grey, so the icons read on its light and dark menus alike. */
const line = (d: string): string =>
  `<path d="${d}" fill="none" stroke="#7c8a9e" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>`;

export const ASSETS: Readonly<Record<string, { type: string; body: string }>> = {
  // Two databases and the copy between them, on Bull Board's primary colour.
  'logo.svg': {
    type: 'image/svg+xml',
    body: svg(
      '<rect width="32" height="32" rx="7" fill="#0f6f64"/>' +
        '<g fill="none" stroke="#f0faf8" stroke-width="2" stroke-linecap="round">' +
        '<ellipse cx="11" cy="8.5" rx="5.5" ry="2.3"/><path d="M5.5 8.5v11c0 1.3 2.5 2.3 5.5 2.3s5.5-1 5.5-2.3v-11"/>' +
        '<path d="M5.5 14c0 1.3 2.5 2.3 5.5 2.3s5.5-1 5.5-2.3"/><path d="M22.5 10v13M18.8 19.3l3.7 3.7 3.7-3.7"/></g>',
      '0 0 32 32',
    ),
  },
  // A table: the fields page.
  'fields.svg': { type: 'image/svg+xml', body: svg(line('M4 5h16v14H4zM4 10h16M4 15h16M10 10v9')) },
  // A gauge: the status page.
  'status.svg': { type: 'image/svg+xml', body: svg(line('M4 17a8 8 0 1 1 16 0M12 17l4-5M7 17h.01M17 17h.01')) },
  // Bars: Prometheus metrics.
  'metrics.svg': { type: 'image/svg+xml', body: svg(line('M5 20V11M10 20V5M15 20v-7M20 20V9')) },
  // Braces: the JSON behind the pages.
  'json.svg': {
    type: 'image/svg+xml',
    body: svg(
      line('M8 4c-2 0-3 1-3 3v2c0 1.5-1 3-2 3 1 0 2 1.5 2 3v2c0 2 1 3 3 3M16 4c2 0 3 1 3 3v2c0 1.5 1 3 2 3-1 0-2 1.5-2 3v2c0 2-1 3-3 3'),
    ),
  },
};
