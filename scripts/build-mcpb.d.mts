export function installPackage(work: string): { tarball: string; prefix: string; dir: string };
export function buildMcpb(
  from: string,
  out: string,
): { out: string; manifest: Record<string, unknown> };
