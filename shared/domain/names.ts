/** Names of AWS resources Upshift creates per component, shared by the CDK stack and the adapters. */
export function codeDeployApplication(component: string): string {
  return `upshift-${component}`;
}

export function codeDeployGroup(component: string, environment: string): string {
  return `${component}-${environment}`;
}
