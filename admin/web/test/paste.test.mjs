// Run with `node --test test/`. Node has no DOMParser, so linkedom stands in
// for the browser's; the samples mimic what each word processor puts on the
// clipboard, written by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOMParser } from 'linkedom';

globalThis.DOMParser = DOMParser;
const { cleanPastedHTML } = await import('../src/paste.js');

const googleDocs = `<meta charset="utf-8"><b style="font-weight:normal;" id="docs-internal-guid-5f1c2a3b-7fff-1234-abcd-0123456789ab"><h1 dir="ltr" style="line-height:1.38;margin-top:20pt;"><span style="font-size:20pt;font-family:Arial,sans-serif;color:#000000;font-weight:400;">Sleep and recovery</span></h1><p dir="ltr" style="line-height:1.38;margin-top:0pt;"><span style="font-size:11pt;font-family:Arial;color:#000000;background-color:transparent;font-weight:400;font-style:normal;">Most adults need </span><span style="font-size:11pt;font-family:Arial;color:#000000;font-weight:700;font-style:normal;">seven hours</span><span style="font-size:11pt;font-family:Arial;font-weight:400;font-style:italic;"> or more</span><span style="font-size:11pt;font-weight:400;">, see </span><a href="https://clinic.example/sleep" style="text-decoration:none;"><span style="font-size:11pt;color:#1155cc;font-weight:400;text-decoration:underline;">our guide</span></a><span style="font-weight:400;">.</span></p><ul style="margin-top:0;margin-bottom:0;"><li dir="ltr" style="list-style-type:disc;font-size:11pt;" aria-level="1"><p dir="ltr" role="presentation"><span style="font-weight:400;">Dark room</span></p></li><li dir="ltr" aria-level="1"><p dir="ltr" role="presentation"><span style="font-weight:400;">No screens</span></p></li></ul><br><p dir="ltr"><span style="font-weight:400;">Line one</span><span><br></span><span style="font-weight:400;">line two</span></p></b><br class="Apple-interchange-newline">`;

const word = `<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word"><head><meta name=Generator content="Microsoft Word 15"><style><!-- p.MsoNormal {margin:0cm; font-family:"Calibri",sans-serif;} --></style></head><body lang=EN-US style='tab-interval:36.0pt'>
<!--StartFragment-->
<p class=MsoTitle>Hydration basics<o:p></o:p></p>
<p class=MsoNormal><span style='font-family:"Times New Roman"'>Water is <b>essential</b> and <i>often</i> <span style='color:red'>forgotten</span>.<o:p></o:p></span></p>
<p class=MsoListParagraphCxSpFirst style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span style='font-family:Symbol;mso-fareast-font-family:Symbol'><span style='mso-list:Ignore'>·<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span></span></span><![endif]>Morning glass<o:p></o:p></p>
<p class=MsoListParagraphCxSpLast style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span style='font-family:Symbol'><span style='mso-list:Ignore'>·<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span></span><![endif]>With meals<o:p></o:p></p>
<h2 style='mso-list:none'>Steps<o:p></o:p></h2>
<p class=MsoListParagraphCxSpFirst style='mso-list:l1 level1 lfo2'><!--[if !supportLists]--><span style='mso-list:Ignore'>1.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span><!--[endif]-->Fill a bottle<o:p></o:p></p>
<p class=MsoListParagraphCxSpLast style='mso-list:l1 level1 lfo2'><!--[if !supportLists]--><span style='mso-list:Ignore'>2.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp; </span></span><!--[endif]-->Drink it <a href="javascript:alert(1)">now</a><o:p></o:p></p>
<p class=MsoQuote><a name="_Toc1"></a>Quoted <a href="mailto:nurse@clinic.example" class=MsoHyperlink>nurse</a><o:p></o:p></p>
<!--EndFragment-->
</body></html>`;

test('Google Docs: wrapper is not bold, spans become strong/em, styles vanish', () => {
  const out = cleanPastedHTML(googleDocs);
  assert.equal(
    out,
    '<h2>Sleep and recovery</h2>' +
      '<p>Most adults need <strong>seven hours</strong><em> or more</em>, see <a href="https://clinic.example/sleep">our guide</a>.</p>' +
      '<ul><li><p>Dark room</p></li><li><p>No screens</p></li></ul>' +
      '<br>' +
      '<p>Line one<br>line two</p>',
  );
  assert.doesNotMatch(out, /style|class|id=|dir=|meta|docs-internal/);
});

test('Word: title, headings, bullet and numbered lists, links, junk removed', () => {
  const out = cleanPastedHTML(word).replace(/\s*\n\s*/g, '');
  assert.equal(
    out,
    '<h2>Hydration basics</h2>' +
      '<p>Water is <strong>essential</strong> and <em>often</em> forgotten.</p>' +
      '<ul><li><p>Morning glass</p></li><li><p>With meals</p></li></ul>' +
      '<h2>Steps</h2>' +
      '<ol><li><p>Fill a bottle</p></li><li><p>Drink it now</p></li></ol>' +
      '<p>Quoted <a href="mailto:nurse@clinic.example">nurse</a></p>',
  );
});

test('nested Word list levels nest inside the open item', () => {
  const item = (lvl, mark, text) =>
    `<p class=MsoListParagraph style='mso-list:l0 level${lvl} lfo1'><span style='mso-list:Ignore'>${mark}&nbsp;</span>${text}</p>`;
  const out = cleanPastedHTML(item(1, '1.', 'One') + item(2, 'a)', 'Sub') + item(1, '2.', 'Two'));
  assert.equal(out, '<ol><li><p>One</p><ol><li><p>Sub</p></li></ol></li><li><p>Two</p></li></ol>');
});

test('text is escaped and large input stays fast', () => {
  assert.equal(cleanPastedHTML('<p>a &lt;b&gt; &amp; c</p>'), '<p>a &lt;b&gt; &amp; c</p>');
  const big = '<p><span style="font-weight:700">x</span> y</p>'.repeat(5000);
  const t0 = performance.now();
  cleanPastedHTML(big);
  assert.ok(performance.now() - t0 < 2000);
});
