/**
 * Code-point order. localeCompare would follow the machine's locale, so generated/ could differ
 * between machines and check-generated pass on one and fail on another.
 */
export function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}
