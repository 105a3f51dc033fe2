// valibot (through @bull-board/api) takes TypeScript as an optional peer, for its types
// only. pnpm fills an optional peer from the workspace root, where TypeScript is a
// devDependency, so `pnpm deploy --prod` put TypeScript (23 MB) into the dashboard's
// image. Nothing at run time needs valibot's types: the peer is dropped.
function readPackage(pkg) {
  if (pkg.name === 'valibot') {
    if (pkg.peerDependencies) delete pkg.peerDependencies.typescript;
    if (pkg.peerDependenciesMeta) delete pkg.peerDependenciesMeta.typescript;
  }
  return pkg;
}

export const hooks = { readPackage };
