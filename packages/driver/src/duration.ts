/** Milliseconds in `seconds`: the driver TOML gives its timeouts and intervals in seconds, timers and SDKs take ms. */
export function secondsToMs(seconds: number): number {
  return seconds * 1000;
}
