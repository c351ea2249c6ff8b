# The jq equivalent of the analyzer's core numbers, for the analyzer benchmark:
#   jq -nR -f stats.jq FILE
# Each line: JSON when it parses, else text. Counts invocations (START / platform.start), reads
# every REPORT / platform.report (count, total duration, timeouts) and sums our invocation
# records' per-dependency totals (count, total_ms).
reduce (inputs | (fromjson? // .)) as $l (
  {starts: 0, reports: 0, report_duration_ms: 0, timeouts: 0, invocation_records: 0, errors: 0,
   deps: {}};
  if ($l | type) == "object" then
    if $l.lambda_trace != null and $l.type == "invocation" then
      .invocation_records += 1
      | (if $l.status == "error" then .errors += 1 else . end)
      | reduce ($l.calls | to_entries[]) as $c (.;
          .deps[$c.key].count += $c.value.count
          | .deps[$c.key].total_ms += $c.value.total_ms)
    elif $l.type == "platform.start" then .starts += 1
    elif $l.type == "platform.report" then
      .reports += 1
      | .report_duration_ms += $l.record.metrics.durationMs
      | (if $l.record.status == "timeout" then .timeouts += 1 else . end)
    else . end
  elif ($l | type) == "string" then
    if ($l | startswith("START RequestId:")) then .starts += 1
    elif ($l | startswith("REPORT RequestId:")) then
      .reports += 1
      | .report_duration_ms += ($l | capture("\tDuration: (?<d>[0-9.]+) ms").d | tonumber)
      | (if ($l | contains("Status: timeout")) then .timeouts += 1 else . end)
    else . end
  else . end
)
