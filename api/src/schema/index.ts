import { builder } from '../builder.ts';
import './enums.ts';
import './user.ts';
import './channel.ts';
import './thing.ts';
import './apikey.ts';
import './command.ts';
import './telemetry.ts';
import './projection.ts';
import './device-status.ts';
import './dead-letter.ts';
import './rule.ts';
import './alert.ts';
import './kafka.ts';
import './model.ts';

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

export const schema = builder.toSchema({ sortSchema: true });
