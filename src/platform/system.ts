/** The reference's platform functions, on the instance type of this process. */
import { getEc2InstanceType } from './instance-type.js';
import { optimizedPlatforms, platformInfo, recommendedThroughputGbps } from './platforms.js';

/** Instance types for which s3tx has a recommended throughput target, as aws-c-s3 does. */
export function getOptimizedPlatforms(): string[] {
  return optimizedPlatforms();
}

/** Whether this instance type has a recommended configuration. */
export async function isOptimizedForSystem(): Promise<boolean> {
  return platformInfo(await getEc2InstanceType())?.hasRecommendedConfiguration ?? false;
}

/** The throughput target to use on this instance, in Gbit/s, or null when the instance type is not known. */
export async function getRecommendedThroughputTargetGbps(): Promise<number | null> {
  return recommendedThroughputGbps(await getEc2InstanceType());
}

export { getEc2InstanceType };
