// The dashboard app is built by a later issue; nothing runs here yet.
export const implemented = false;
