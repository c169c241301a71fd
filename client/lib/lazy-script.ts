/**
 * Loads a script of this site once, by path and Subresource Integrity hash (the browser refuses
 * it if its bytes differ from what the build recorded), and resolves with what it leaves on
 * globalThis under `global`. A failed load is forgotten, so the next call tries again.
 */
const loads = new Map<string, Promise<unknown>>();

export function loadScript<T>(src: string, integrity: string, global: string): Promise<T> {
  let loading = loads.get(src);
  if (!loading) {
    loading = new Promise<unknown>((resolve, reject) => {
      if (!src || !integrity) return reject(new Error(global));
      const script = document.createElement('script');
      script.src = src;
      script.integrity = integrity;
      script.onload = () => {
        const value = (globalThis as Record<string, unknown>)[global];
        if (value) resolve(value);
        else reject(new Error(global));
      };
      script.onerror = () => reject(new Error(global));
      document.head.append(script);
    });
    loads.set(src, loading);
    loading.catch(() => loads.delete(src));
  }
  return loading as Promise<T>;
}
