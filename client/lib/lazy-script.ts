/**
 * Scripts a page loads only when a survivor needs them, under the Subresource Integrity hash
 * the build recorded (scripts/build.mjs LAZY_SCRIPTS, LAZY_LAYERED): tampered bytes are
 * refused. A load that fails is forgotten, so the next call tries again.
 */

/** Where a lazy script is, and the hash its bytes must have. */
export interface LazyAsset {
  src: string;
  integrity: string;
}

/** The first call starts `load`, later calls share it; a failure is forgotten. */
function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load();
    loading.catch(() => (loading = undefined));
    return loading;
  };
}

/** The script a page names in <meta name="<name>" content="<path> <sri>"> (a layered script, whose hash the layers cannot know when built). */
export function namedByPage(name: string): LazyAsset | undefined {
  const [src, integrity] = (document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '').split(' ');
  return src && integrity ? { src, integrity } : undefined;
}

/** Runs a script once, checked against its hash; resolves with what it leaves in `globalThis[exported]`. */
export function lazyScript<T>(asset: () => LazyAsset | undefined, exported: string): () => Promise<T> {
  return loadOnce(
    () =>
      new Promise<T>((resolve, reject) => {
        const where = asset();
        const fail = () => reject(new Error(`${exported} did not load`));
        if (!where) return fail();
        const script = document.createElement('script');
        script.src = where.src;
        script.integrity = where.integrity;
        script.onload = () => {
          const value = (globalThis as Record<string, unknown>)[exported] as T | undefined;
          if (value) resolve(value);
          else fail();
        };
        script.onerror = fail;
        document.head.append(script);
      }),
  );
}

/**
 * A Worker's script, fetched under its hash (a Worker cannot carry an `integrity` attribute),
 * as a blob: URL of the checked bytes (CSP `worker-src blob:`).
 */
export function lazyWorkerUrl(asset: () => LazyAsset): () => Promise<string> {
  return loadOnce(() => {
    const { src, integrity } = asset();
    return fetch(src, { integrity })
      .then((response) => response.blob())
      .then((script) => URL.createObjectURL(script));
  });
}
