/**
 * The instance types aws-c-s3 knows the network of, from its platform table
 * (awslabs/aws-c-s3, source/s3_platform_info.c): the throughput a process can
 * reach from user space, and whether that build ships a recommended configuration.
 */

export interface PlatformInfo {
  instanceType: string;
  /** Throughput reachable from the CPU, in Gbit/s (below the advertised NIC bandwidth on the largest types). */
  maxThroughputGbps: number;
  /** aws-c-s3 ships a tuned configuration for this type. */
  hasRecommendedConfiguration: boolean;
}

const TABLE: readonly PlatformInfo[] = [
  // c5n: the bandwidth is known, the tuning "not yet".
  { instanceType: 'c5n.18xlarge', maxThroughputGbps: 100, hasRecommendedConfiguration: false },
  { instanceType: 'c5n.metal', maxThroughputGbps: 100, hasRecommendedConfiguration: false },
  { instanceType: 'c5n.9xlarge', maxThroughputGbps: 50, hasRecommendedConfiguration: false },
  { instanceType: 'p4d.24xlarge', maxThroughputGbps: 400, hasRecommendedConfiguration: true },
  { instanceType: 'p4de.24xlarge', maxThroughputGbps: 400, hasRecommendedConfiguration: true },
  // p5 and trn2 advertise far more, but about 400 Gbit/s is reachable from the CPU.
  { instanceType: 'p5.48xlarge', maxThroughputGbps: 400, hasRecommendedConfiguration: true },
  { instanceType: 'p5e.48xlarge', maxThroughputGbps: 400, hasRecommendedConfiguration: true },
  { instanceType: 'p5en.48xlarge', maxThroughputGbps: 400, hasRecommendedConfiguration: true },
  { instanceType: 'trn2.48xlarge', maxThroughputGbps: 400, hasRecommendedConfiguration: true },
  { instanceType: 'trn2u.48xlarge', maxThroughputGbps: 400, hasRecommendedConfiguration: true },
  { instanceType: 'trn1n.32xlarge', maxThroughputGbps: 800, hasRecommendedConfiguration: true },
  { instanceType: 'trn1.32xlarge', maxThroughputGbps: 600, hasRecommendedConfiguration: true },
];

/** The table entry of an instance type (case-insensitive, as aws-c-s3 matches), or null. */
export function platformInfo(instanceType: string | null): PlatformInfo | null {
  if (!instanceType) return null;
  const wanted = instanceType.trim().toLowerCase();
  return TABLE.find((entry) => entry.instanceType === wanted) ?? null;
}

/** Instance types with a recommended configuration. */
export function optimizedPlatforms(): string[] {
  return TABLE.filter((entry) => entry.hasRecommendedConfiguration).map((entry) => entry.instanceType);
}

/** The throughput to aim for on an instance type, or null when it is not in the table. */
export function recommendedThroughputGbps(instanceType: string | null): number | null {
  return platformInfo(instanceType)?.maxThroughputGbps ?? null;
}
