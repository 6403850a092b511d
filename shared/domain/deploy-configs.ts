/**
 * CodeDeploy's predefined deployment configs, with the traffic steps each one takes. The names
 * differ by platform (Lambda says `Every1Minute`, ECS says `Every1Minutes`), so a config is always
 * checked against the target's platform.
 */
export type Platform = 'lambda' | 'ecs' | 'ec2';

/** A step: at `atMinute` after the start, `percent` of traffic goes to the new version. */
export interface TrafficStep {
  atMinute: number;
  percent: number;
}

function canary(minutes: number): TrafficStep[] {
  return [
    { atMinute: 0, percent: 10 },
    { atMinute: minutes, percent: 100 },
  ];
}

function linear(everyMinutes: number): TrafficStep[] {
  return Array.from({ length: 10 }, (_, i) => ({ atMinute: i * everyMinutes, percent: (i + 1) * 10 }));
}

const allAtOnce: TrafficStep[] = [{ atMinute: 0, percent: 100 }];

export const predefinedConfigs: Record<Platform, Record<string, TrafficStep[]>> = {
  lambda: {
    'CodeDeployDefault.LambdaCanary10Percent5Minutes': canary(5),
    'CodeDeployDefault.LambdaCanary10Percent10Minutes': canary(10),
    'CodeDeployDefault.LambdaCanary10Percent15Minutes': canary(15),
    'CodeDeployDefault.LambdaCanary10Percent30Minutes': canary(30),
    'CodeDeployDefault.LambdaLinear10PercentEvery1Minute': linear(1),
    'CodeDeployDefault.LambdaLinear10PercentEvery2Minutes': linear(2),
    'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes': linear(3),
    'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes': linear(10),
    'CodeDeployDefault.LambdaAllAtOnce': allAtOnce,
  },
  ecs: {
    'CodeDeployDefault.ECSLinear10PercentEvery1Minutes': linear(1),
    'CodeDeployDefault.ECSLinear10PercentEvery3Minutes': linear(3),
    'CodeDeployDefault.ECSCanary10Percent5Minutes': canary(5),
    'CodeDeployDefault.ECSCanary10Percent15Minutes': canary(15),
    'CodeDeployDefault.ECSAllAtOnce': allAtOnce,
  },
  ec2: {
    // In-place EC2 configs move instances, not traffic percentages; modelled as one step each.
    'CodeDeployDefault.AllAtOnce': allAtOnce,
    'CodeDeployDefault.HalfAtATime': [
      { atMinute: 0, percent: 50 },
      { atMinute: 1, percent: 100 },
    ],
    'CodeDeployDefault.OneAtATime': allAtOnce,
  },
};

/** The all-at-once config of each platform, used for fast reverts. */
export const allAtOnceConfig: Record<Platform, string> = {
  lambda: 'CodeDeployDefault.LambdaAllAtOnce',
  ecs: 'CodeDeployDefault.ECSAllAtOnce',
  ec2: 'CodeDeployDefault.AllAtOnce',
};

export function isPredefinedConfig(platform: Platform, name: string): boolean {
  return Object.hasOwn(predefinedConfigs[platform], name);
}

export function trafficSteps(platform: Platform, name: string): TrafficStep[] {
  const steps = Object.hasOwn(predefinedConfigs[platform], name)
    ? predefinedConfigs[platform][name]
    : undefined;
  if (!steps) throw new Error(`${name} is not a predefined ${platform} deployment config`);
  return steps;
}

/** Minutes from the start of the shift until all traffic is on the new version. */
export function shiftDurationMinutes(platform: Platform, name: string): number {
  const steps = trafficSteps(platform, name);
  return steps[steps.length - 1]?.atMinute ?? 0;
}

/** The closest predefined config name on another platform, for error messages. */
export function suggestConfig(platform: Platform, name: string): string | undefined {
  const normalized = name
    .replace(/Every1Minutes?$/, 'Every1Minute')
    .toLowerCase()
    .replace(/lambda|ecs/, '');
  return Object.keys(predefinedConfigs[platform]).find(
    (candidate) =>
      candidate
        .replace(/Every1Minutes?$/, 'Every1Minute')
        .toLowerCase()
        .replace(/lambda|ecs/, '') === normalized,
  );
}
