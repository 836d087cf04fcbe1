import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { messageSubject } from './build.ts';
import { isSubjectError } from './errors.ts';
import { parseMessageSubject } from './parse.ts';
import {
  decodeContentTypeSegment,
  encodeContentTypeSegment,
  parseMessageTopic,
  splitContentTypeSuffix,
  subtopicFromPath,
  subtopicFromSegments,
  subtopicToPath,
} from './subtopic.ts';
import { MAX_SUBTOPIC_DEPTH } from './tokens.ts';

const level = fc.stringMatching(/^[A-Za-z0-9_~:@=-]{1,12}$/);

describe('subtopic mapping', () => {
  it('path segments ⇄ subject tokens round-trip through a message subject', () => {
    fc.assert(
      fc.property(fc.array(level, { maxLength: MAX_SUBTOPIC_DEPTH }), (segments) => {
        const path = segments.join('/');
        const subtopic = subtopicFromPath(path);
        const subject = messageSubject({ tenant: 't', channel: 'c', thing: 'th', subtopic });
        assert.equal(subtopicToPath(parseMessageSubject(subject).subtopic), path);
      }),
    );
  });

  it('maps a/b to a.b', () => {
    assert.deepEqual(subtopicFromPath('a/b'), ['a', 'b']);
    assert.deepEqual(subtopicFromPath(''), []);
    assert.equal(
      messageSubject({ tenant: 't', channel: 'c', thing: 'th', subtopic: subtopicFromPath('a/b') }),
      'msg.t.c.th.a.b',
    );
  });

  it('rejects segments that are not tokens, with the segment named', () => {
    const cases: [string, string][] = [
      ['a//b', 'EMPTY_TOKEN'],
      ['a/', 'EMPTY_TOKEN'],
      ['a.b/c', 'TOKEN_CONTAINS_DOT'],
      ['a/*', 'TOKEN_CONTAINS_WILDCARD'],
      ['a/>', 'TOKEN_CONTAINS_WILDCARD'],
      ['a/b c', 'TOKEN_CONTAINS_WHITESPACE'],
      ['a/+', 'TOKEN_INVALID_CHAR'],
      ['a/#', 'TOKEN_INVALID_CHAR'],
    ];
    for (const [path, code] of cases) {
      assert.throws(
        () => subtopicFromPath(path),
        (e) => isSubjectError(e, code as never) && e.message.includes(JSON.stringify(path)),
        path,
      );
    }
    assert.throws(
      () => subtopicFromSegments(Array.from({ length: MAX_SUBTOPIC_DEPTH + 1 }, () => 'a')),
      (e) => isSubjectError(e, 'SUBTOPIC_TOO_DEEP'),
    );
  });
});

describe('content-type suffix', () => {
  it('decodes the Mainflux forms', () => {
    assert.deepEqual(splitContentTypeSuffix(['a', 'ct', 'application_senml-json']), {
      segments: ['a'],
      contentType: 'application/senml+json',
    });
    assert.equal(decodeContentTypeSegment('application_senml-cbor'), 'application/senml+cbor');
    assert.equal(decodeContentTypeSegment('application_json'), 'application/json');
    assert.equal(decodeContentTypeSegment('Application_SenML-JSON'), 'application/senml+json');
    // Only a structured-syntax suffix gets its '+' back.
    assert.equal(decodeContentTypeSegment('application_octet-stream'), 'application/octet-stream');
  });

  it('leaves segments without the marker alone', () => {
    const segments = ['a', 'b'];
    assert.deepEqual(splitContentTypeSuffix(segments), { segments, contentType: undefined });
    assert.deepEqual(splitContentTypeSuffix(['ct']), { segments: ['ct'], contentType: undefined });
    assert.deepEqual(splitContentTypeSuffix(['ct', 'x', 'y']).contentType, undefined);
  });

  it('rejects a suffix that is not a media type', () => {
    for (const bad of ['json', '', '_json', 'a_b c']) {
      assert.throws(
        () => splitContentTypeSuffix(['ct', bad]),
        (e) => isSubjectError(e, 'INVALID_CONTENT_TYPE'),
        bad,
      );
    }
  });

  it('encode ⇄ decode round-trips', () => {
    for (const ct of [
      'application/senml+json',
      'application/senml+cbor',
      'application/json',
      'application/octet-stream',
      'image/jpeg',
      'text/plain',
    ]) {
      assert.equal(decodeContentTypeSegment(encodeContentTypeSegment(ct)), ct);
    }
    assert.equal(encodeContentTypeSegment('application/senml+json'), 'application_senml-json');
  });
});

describe('parseMessageTopic', () => {
  it('parses MQTT topics and HTTP paths', () => {
    assert.deepEqual(parseMessageTopic('channels/c1/messages'), {
      channel: 'c1',
      subtopic: [],
      contentType: undefined,
    });
    assert.deepEqual(parseMessageTopic('/channels/c1/messages/room/1/ct/application_senml-json'), {
      channel: 'c1',
      subtopic: ['room', '1'],
      contentType: 'application/senml+json',
    });
    assert.deepEqual(parseMessageTopic(['channels', 'c1', 'messages', 'a']), {
      channel: 'c1',
      subtopic: ['a'],
      contentType: undefined,
    });
  });

  it('rejects other topics and bad channels', () => {
    for (const bad of ['things/x/commands', 'channels/c1', 'channels/c1/msgs/a', '']) {
      assert.throws(
        () => parseMessageTopic(bad),
        (e) => isSubjectError(e, 'INVALID_TOPIC'),
        bad,
      );
    }
    assert.throws(
      () => parseMessageTopic('channels/*/messages'),
      (e) => isSubjectError(e, 'TOKEN_CONTAINS_WILDCARD'),
    );
    assert.throws(
      () => parseMessageTopic('channels//messages'),
      (e) => isSubjectError(e, 'EMPTY_TOKEN'),
    );
  });
});
