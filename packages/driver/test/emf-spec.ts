/**
 * A validator for CloudWatch embedded metric format documents that follows AWS's published specification, rule by
 * rule, including its JSON schema:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 * (source: https://github.com/awsdocs/amazon-cloudwatch-user-guide, doc_source/CloudWatch_Embedded_Metric_Format_Specification.md).
 * Returns every violation, each naming the rule; an empty list means the document is valid.
 */

/** MetricDefinition Unit, exactly the schema's pattern. */
const UNIT_PATTERN =
  /^(Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes\/Second|Kilobytes\/Second|Megabytes\/Second|Gigabytes\/Second|Terabytes\/Second|Bits\/Second|Kilobits\/Second|Megabits\/Second|Gigabits\/Second|Terabits\/Second|Count\/Second|None)$/;
/** "The embedded metric format is subject to the same limits as standard CloudWatch Logs events ... 256 KB." */
const MAX_EVENT_BYTES = 256 * 1024;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The schema's strings: `"pattern": "^(.*)$"` (no line breaks), `minLength` 1, `maxLength` 255. */
const isName = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 255 && /^(.*)$/.test(v);

/** "Unless otherwise noted, objects defined by this specification MUST NOT contain any additional members." */
function extraMembers(object: Json, allowed: readonly string[], where: string, problems: string[]): void {
  for (const key of Object.keys(object)) if (!allowed.includes(key)) problems.push(`${where}: additional member ${key}`);
}

/** Validates one log event's message (the whole line, as CloudWatch Logs receives it). */
export function emfViolations(message: string): string[] {
  const problems: string[] = [];
  if (Buffer.byteLength(message) > MAX_EVENT_BYTES) problems.push('document: larger than 256 KB');
  let root: unknown;
  try {
    // "The LogEvent message MUST be a valid JSON object with no additional data at the beginning or end."
    root = JSON.parse(message);
  } catch {
    return ['root: not a valid JSON object'];
  }
  if (!isObject(root)) return ['root: not a JSON object'];
  const aws = root._aws;
  if (!isObject(aws)) return ['root: MUST contain the member _aws, an object'];
  extraMembers(aws, ['Timestamp', 'CloudWatchMetrics'], '_aws', problems);
  // Schema: Timestamp "type": "integer" (milliseconds after Jan 1, 1970 00:00:00 UTC).
  if (typeof aws.Timestamp !== 'number' || !Number.isInteger(aws.Timestamp) || aws.Timestamp < 0) problems.push('_aws.Timestamp: MUST be an integer of milliseconds since the epoch');
  if (!Array.isArray(aws.CloudWatchMetrics)) return [...problems, '_aws.CloudWatchMetrics: MUST be an array of MetricDirective objects'];
  aws.CloudWatchMetrics.forEach((directive, i) => checkDirective(directive, `_aws.CloudWatchMetrics[${i}]`, root as Json, problems));
  return problems;
}

function checkDirective(directive: unknown, where: string, root: Json, problems: string[]): void {
  if (!isObject(directive)) return void problems.push(`${where}: MUST be a MetricDirective object`);
  extraMembers(directive, ['Namespace', 'Dimensions', 'Metrics'], where, problems);
  if (!isName(directive.Namespace)) problems.push(`${where}.Namespace: MUST be a string of 1 to 255 characters`);
  const dimensions = directive.Dimensions;
  // Schema: Dimensions minItems 1; each DimensionSet 0 to 9 DimensionReference strings of 1 to 255 characters.
  if (!Array.isArray(dimensions) || dimensions.length < 1) {
    problems.push(`${where}.Dimensions: MUST be an array of at least one DimensionSet`);
  } else {
    dimensions.forEach((set, j) => {
      if (!Array.isArray(set) || set.length > 9) return void problems.push(`${where}.Dimensions[${j}]: a DimensionSet MUST be an array of at most 9 dimension keys`);
      for (const key of set) {
        if (!isName(key)) problems.push(`${where}.Dimensions[${j}]: dimension keys MUST be strings of 1 to 255 characters`);
        // "The target member MUST have a string value."
        else if (typeof root[key] !== 'string') problems.push(`${where}.Dimensions[${j}]: the root node MUST have the dimension target member ${key}, a string`);
      }
    });
  }
  const metrics = directive.Metrics;
  // "This array MUST NOT contain more than 100 MetricDefinition objects."
  if (!Array.isArray(metrics) || metrics.length > 100) return void problems.push(`${where}.Metrics: MUST be an array of at most 100 MetricDefinition objects`);
  metrics.forEach((definition, k) => checkDefinition(definition, `${where}.Metrics[${k}]`, root, problems));
}

function checkDefinition(definition: unknown, where: string, root: Json, problems: string[]): void {
  if (!isObject(definition)) return void problems.push(`${where}: MUST be a MetricDefinition object`);
  extraMembers(definition, ['Name', 'Unit'], where, problems);
  if (!isName(definition.Name)) return void problems.push(`${where}.Name: MUST be a string of 1 to 255 characters`);
  if (definition.Unit !== undefined && !(typeof definition.Unit === 'string' && UNIT_PATTERN.test(definition.Unit))) {
    problems.push(`${where}.Unit: ${JSON.stringify(definition.Unit)} is not a CloudWatch unit`);
  }
  // "A metric target MUST be a numeric value or an array of numeric values ... MUST NOT have more than 100 members."
  const target = root[definition.Name];
  const numeric = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const ok = numeric(target) || (Array.isArray(target) && target.length <= 100 && target.every(numeric));
  if (!ok) problems.push(`${where}: the root node MUST have the metric target member ${definition.Name}, a number or an array of at most 100 numbers`);
}
