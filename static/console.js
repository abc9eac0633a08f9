// The live queue: when a tip arrives for this officer's queue, the table is fetched again and
// swapped in, the title counts the new tips, and an urgent one beeps. Without JavaScript the page
// is the same, with a reload link.
(function () {
  var table = document.getElementById('queue');
  if (!table || !window.EventSource || !window.fetch) return;
  var title = document.title;
  var fresh = 0;
  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ctx = new Ctx();
      var osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
    } catch (e) { /* no sound on this browser */ }
  }
  function refresh() {
    fetch(location.href, { credentials: 'same-origin' })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var body = doc.querySelector('#queue tbody');
        if (body) table.querySelector('tbody').replaceWith(body);
        var empty = document.getElementById('queue-empty');
        if (empty && body && body.children.length) empty.remove();
      });
  }
  var events = new EventSource('/console/events');
  events.addEventListener('tip', function (e) {
    fresh += 1;
    document.title = '(' + fresh + ') ' + title;
    if (e.data === 'urgent') beep();
    refresh();
  });
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) { fresh = 0; document.title = title; }
  });
})();
