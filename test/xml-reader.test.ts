import { describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { readXml } from '../src/protocol/xml-reader.js';
import { xmlTreeProblem } from './helpers/servers.js';

const oracle = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  htmlEntities: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'Part',
});

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

const SAMPLES = [
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;</Key><RequestId>4442587FB7D0A2F9</RequestId></Error>`,
  `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkSUQ</UploadId></InitiateMultipartUploadResult>`,
  `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>"b"</ETag><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C></Part></CompleteMultipartUpload>`,
  `<ListPartsResult><Part><PartNumber>1</PartNumber></Part><IsTruncated>false</IsTruncated><Owner><ID>x</ID><DisplayName/></Owner></ListPartsResult>`,
  `<!-- a comment --><R><A> spaced text </A><B><![CDATA[<raw> & text]]></B><C>&#65;&#x42;&#x1F600;</C></R>`,
];

describe('XML reader', () => {
  it('reads S3 documents as fast-xml-parser does', () => {
    for (const sample of SAMPLES) expect(readXml(sample, new Set(['Part'])), sample).toEqual(oracle.parse(sample));
  });

  it('turns repeated names into arrays and keeps listed names arrays when single', () => {
    expect(readXml('<L><O>1</O><O>2</O><O>3</O></L>')).toEqual({ L: { O: ['1', '2', '3'] } });
    expect(readXml('<L><O>1</O></L>', new Set(['O']))).toEqual({ L: { O: ['1'] } });
    expect(readXml('<L><O><K>a</K></O><O/></L>')).toEqual({ L: { O: [{ K: 'a' }, ''] } });
  });

  it('refuses what is not well-formed, and DTDs', () => {
    for (const text of [
      '',
      'plain text',
      '<A>',
      '<A></B>',
      '<A><B></A></B>',
      '<A>x</A><B/>',
      '<A>x</A>trailing',
      '<A>&unknown;</A>',
      '<A>a & b</A>',
      '<A>&#0;</A>',
      '<A>&#xD800;</A>',
      '<A b=unquoted></A>',
      '<!DOCTYPE A [<!ENTITY e "boom">]><A>&e;</A>',
      '<A><!-- unterminated </A>',
      '<A><![CDATA[ unterminated </A>',
      '< A></A>',
    ]) {
      expect(readXml(text), text).toBeNull();
    }
  });

  it('never throws on random or truncated input', () => {
    const random = seeded(11);
    const alphabet = ['<', '>', '/', 'A', 'B', '&', ';', 'amp', '#', 'x', '"', '=', ' ', '!', '?', '[', ']', '-', 'CDATA', '\u00e9'];
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({ length: Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      expect(() => readXml(text)).not.toThrow();
    }
    for (const sample of SAMPLES) {
      for (let cut = 0; cut < sample.length; cut++) {
        const result = readXml(sample.slice(0, cut));
        if (result !== null) expect(xmlTreeProblem(result), sample.slice(0, cut)).toBeNull();
      }
    }
  });
});
