// The converter's one error: a VMI it cannot turn into a domain, naming the field at fault.
import { ValidationError } from '@kubevirt-ts/shared';

export class ConversionError extends ValidationError {
  override readonly name: string = 'ConversionError';

  /** `path` is the VMI field at fault, e.g. `spec.volumes[1].persistentVolumeClaim`. */
  constructor(path: string, problem: string, options: { cause?: unknown } = {}) {
    super(`${path}: ${problem}`, { path, ...options });
  }
}
