import type { Bump } from './semver';

export const riskLevels = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type RiskLevel = (typeof riskLevels)[number];

export function riskRank(level: RiskLevel): number {
  return riskLevels.indexOf(level);
}

export interface RiskAssessment {
  risk: RiskLevel;
  /** 1 is the most urgent. */
  priority: number;
  reasons: string[];
}

/**
 * The risk of an upgrade from its bump and labels (documented in docs/policies.md):
 * - a major bump, or a `breaking` label: HIGH; both, or a major bump of a 0.x line: CRITICAL;
 * - a minor bump or a prerelease: MEDIUM;
 * - a patch: LOW.
 * A `security` or `hotfix` label raises the priority (urgent) without raising the risk.
 */
export function assessRisk(bump: Bump, labels: readonly string[]): RiskAssessment {
  const reasons: string[] = [];
  let risk: RiskLevel;
  const breaking = labels.includes('breaking');
  if (bump === 'major' && breaking) {
    risk = 'CRITICAL';
    reasons.push('major bump labelled breaking');
  } else if (bump === 'major' || breaking) {
    risk = 'HIGH';
    reasons.push(bump === 'major' ? 'major version bump' : 'labelled breaking');
  } else if (bump === 'minor' || bump === 'prerelease') {
    risk = 'MEDIUM';
    reasons.push(`${bump} version bump`);
  } else {
    risk = 'LOW';
    reasons.push(`${bump} version bump`);
  }
  const urgent = labels.includes('security') || labels.includes('hotfix');
  if (urgent) reasons.push('security or hotfix label: urgent');
  return { risk, priority: urgent ? 1 : risk === 'LOW' ? 3 : 2, reasons };
}
