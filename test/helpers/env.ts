// The reference outputs were captured with TZ=UTC; our times print in the local zone as theirs do.
process.env.TZ = 'UTC';
