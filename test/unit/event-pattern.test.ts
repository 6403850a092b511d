import { describe, expect, it } from 'vitest';
import { matchesPattern, validatePattern } from '../../shared/domain/event-pattern';
import { rulePatterns } from '../../shared/domain/patterns';

const event = {
  source: 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  detail: {
    state: 'running',
    'instance-id': 'i-0123',
    count: 5,
    ip: '10.0.0.42',
    tags: ['prod', 'web'],
    empty: '',
    nothing: null,
    nested: { a: 'b' },
  },
};

describe('EventBridge pattern matcher', () => {
  it.each([
    ['exact value', { detail: { state: ['running'] } }, true],
    ['exact value, OR within the array', { detail: { state: ['stopped', 'running'] } }, true],
    ['exact value is case sensitive', { detail: { state: ['RUNNING'] } }, false],
    ['fields are ANDed', { source: ['aws.ec2'], detail: { state: ['stopped'] } }, false],
    ['array field matches any element', { detail: { tags: ['web'] } }, true],
    ['prefix', { detail: { 'instance-id': [{ prefix: 'i-0' }] } }, true],
    ['prefix equals-ignore-case', { source: [{ prefix: { 'equals-ignore-case': 'AWS.' } }] }, true],
    ['suffix', { detail: { 'instance-id': [{ suffix: '23' }] } }, true],
    [
      'suffix equals-ignore-case',
      { 'detail-type': [{ suffix: { 'equals-ignore-case': 'NOTIFICATION' } }] },
      true,
    ],
    ['equals-ignore-case', { detail: { state: [{ 'equals-ignore-case': 'RUNNING' }] } }, true],
    ['wildcard', { 'detail-type': [{ wildcard: 'EC2*Notification' }] }, true],
    ['wildcard miss', { 'detail-type': [{ wildcard: 'S3*' }] }, false],
    ['anything-but value', { detail: { state: [{ 'anything-but': 'stopped' }] } }, true],
    ['anything-but list', { detail: { state: [{ 'anything-but': ['running', 'stopped'] }] } }, false],
    ['anything-but numbers', { detail: { count: [{ 'anything-but': [100, 200] }] } }, true],
    ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'run' } }] } }, false],
    ['anything-but suffix', { detail: { state: [{ 'anything-but': { suffix: 'ped' } }] } }, true],
    [
      'anything-but equals-ignore-case',
      { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['RUNNING'] } }] } },
      false,
    ],
    ['anything-but wildcard', { detail: { state: [{ 'anything-but': { wildcard: 'st*' } }] } }, true],
    [
      'anything-but on a missing field does not match',
      { detail: { missing: [{ 'anything-but': 'x' }] } },
      false,
    ],
    ['numeric range', { detail: { count: [{ numeric: ['>', 0, '<=', 5] }] } }, true],
    ['numeric equals', { detail: { count: [{ numeric: ['=', 5] }] } }, true],
    ['numeric miss', { detail: { count: [{ numeric: ['<', 5] }] } }, false],
    ['numeric never matches a string', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
    ['cidr IPv4', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, true],
    ['cidr IPv4 miss', { detail: { ip: [{ cidr: '10.0.1.0/24' }] } }, false],
    ['exists true', { detail: { state: [{ exists: true }] } }, true],
    ['exists false on a missing field', { detail: { missing: [{ exists: false }] } }, true],
    ['exists false on a present field', { detail: { state: [{ exists: false }] } }, false],
    [
      'exists true on an object node does not match (leaves only)',
      { detail: { nested: [{ exists: true }] } },
      false,
    ],
    ['null', { detail: { nothing: [null] } }, true],
    ['empty string', { detail: { empty: [''] } }, true],
    ['$or', { detail: { $or: [{ state: ['stopped'] }, { count: [{ numeric: ['>', 3] }] }] } }, true],
    ['$or none', { detail: { $or: [{ state: ['stopped'] }, { count: [{ numeric: ['>', 30] }] }] } }, false],
    ['nested pattern against a leaf', { detail: { state: { value: ['running'] } } }, false],
  ])('%s', (_name, pattern, expected) => {
    // Prepare / Act / Assess: the pattern is the preparation; matching is the act.
    expect(matchesPattern(pattern as never, event)).toBe(expected);
  });

  it('matches IPv6 cidr blocks', () => {
    expect(matchesPattern({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db8:0:0:1::1' })).toBe(true);
    expect(matchesPattern({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db9::1' })).toBe(false);
  });

  it('reports malformed patterns with their path', () => {
    expect(validatePattern({ detail: { $or: [{ a: ['x'] }] } })).toEqual([
      'detail.$or: expected an array of at least 2 patterns',
    ]);
    expect(validatePattern({ a: [{ wildcard: 'a**b' }] })[0]).toMatch(/a\[0\]: wildcard: consecutive/);
    expect(validatePattern({ a: [{ numeric: ['>>', 1] }] })[0]).toMatch(/numeric/);
    expect(validatePattern({ a: [{ unknown: 1 }] })[0]).toMatch(/unknown operator/);
    expect(validatePattern({ a: 'x' })).toEqual(['a: expected an array of values or a nested pattern']);
    expect(validatePattern({ a: [{ exists: true }], b: [{ exists: false }] })).toEqual([]);
    expect(validatePattern({ a: [{ exists: 'yes' }] })).toEqual(['a[0]: exists takes true or false']);
  });

  it('routes the rule patterns the stack deploys', () => {
    const ecrPush = {
      source: 'aws.ecr',
      'detail-type': 'ECR Image Action',
      detail: {
        'action-type': 'PUSH',
        result: 'SUCCESS',
        'repository-name': 'checkout',
        'image-digest': 'sha256:1',
        'image-tag': '1.2.3',
      },
    };
    expect(matchesPattern(rulePatterns.ecrImagePush, ecrPush)).toBe(true);
    expect(
      matchesPattern(rulePatterns.ecrImagePush, {
        ...ecrPush,
        detail: { ...ecrPush.detail, 'action-type': 'DELETE' },
      }),
    ).toBe(false);
    expect(
      matchesPattern(rulePatterns.versionPublished, {
        source: 'ci.anything',
        'detail-type': 'Version Published',
      }),
    ).toBe(true);
    expect(
      matchesPattern(rulePatterns.alarmEnteredAlarm, {
        source: 'aws.cloudwatch',
        'detail-type': 'CloudWatch Alarm State Change',
        detail: { state: { value: 'ALARM' } },
      }),
    ).toBe(true);
    for (const p of Object.values(rulePatterns)) expect(validatePattern(p)).toEqual([]);
  });
});
