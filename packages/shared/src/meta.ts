// k8s apimachinery meta/v1 pieces shared by the VMI and the Domain: ObjectMeta and metav1.Time.
import * as z from 'zod/mini';
import type { Known } from './validation.ts';

/** metav1.Time on the wire: RFC3339 at second precision, UTC; a zero Time is `null`. */
export const timeSchema = z.string();
export type Time = z.infer<typeof timeSchema>;

/** metav1.Now() as it marshals: `2026-08-22T10:11:12Z`. */
export function k8sTime(date: Date = new Date()): Time {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const ownerReferenceSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.optional(z.boolean()),
  blockOwnerDeletion: z.optional(z.boolean()),
});

/** Every field optional, as Go's omitempty leaves them; `creationTimestamp` may be `null`. */
export const objectMetaShape = {
  name: z.optional(z.string()),
  generateName: z.optional(z.string()),
  namespace: z.optional(z.string()),
  selfLink: z.optional(z.string()),
  uid: z.optional(z.string()),
  resourceVersion: z.optional(z.string()),
  generation: z.optional(z.int()),
  creationTimestamp: z.optional(z.nullable(timeSchema)),
  deletionTimestamp: z.optional(z.nullable(timeSchema)),
  deletionGracePeriodSeconds: z.optional(z.nullable(z.int())),
  labels: z.optional(z.record(z.string(), z.string())),
  annotations: z.optional(z.record(z.string(), z.string())),
  ownerReferences: z.optional(z.array(ownerReferenceSchema)),
  finalizers: z.optional(z.array(z.string())),
  managedFields: z.optional(z.array(z.looseObject({}))),
};

export const objectMetaSchema = z.looseObject(objectMetaShape);
export type ObjectMeta = Known<z.infer<typeof objectMetaSchema>>;
export type OwnerReference = Known<z.infer<typeof ownerReferenceSchema>>;
