// k8s apimachinery meta/v1 pieces shared by the VMI and the Domain: ObjectMeta and metav1.Time.
import { z } from 'zod';
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
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});

/** Every field optional, as Go's omitempty leaves them; `creationTimestamp` may be `null`. */
export const objectMetaShape = {
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  selfLink: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.int().optional(),
  creationTimestamp: timeSchema.nullable().optional(),
  deletionTimestamp: timeSchema.nullable().optional(),
  deletionGracePeriodSeconds: z.int().nullable().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  ownerReferences: z.array(ownerReferenceSchema).optional(),
  finalizers: z.array(z.string()).optional(),
  managedFields: z.array(z.looseObject({})).optional(),
};

export const objectMetaSchema = z.looseObject(objectMetaShape);
export type ObjectMeta = Known<z.infer<typeof objectMetaSchema>>;
export type OwnerReference = Known<z.infer<typeof ownerReferenceSchema>>;
