/** Thrown by a command that ends with a specific exit status (a container's). */
export class ExitStatus {
  constructor(readonly status: number) {}
}
