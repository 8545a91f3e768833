// Quick contact search in the top bar: suggestions while typing, Enter opens the results.
(function () {
  var input = document.getElementById('quick-search');
  var box = document.getElementById('quick-search-results');
  if (!input || !box) { return; }
  var timer = null;
  function hide() { box.classList.remove('show'); box.innerHTML = ''; }
  function show(items) {
    box.innerHTML = '';
    if (!items.length) { hide(); return; }
    items.forEach(function (c) {
      var a = document.createElement('a');
      a.className = 'dropdown-item suggestion';
      a.href = c.url;
      a.textContent = c.name;
      var small = document.createElement('small');
      small.textContent = [c.email, c.phone].filter(Boolean).join(' · ');
      a.appendChild(small);
      box.appendChild(a);
    });
    box.classList.add('show');
  }
  function suggest() {
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) { hide(); return; }
    timer = setTimeout(function () {
      fetch(input.dataset.suggestUrl + '?q=' + encodeURIComponent(q), {credentials: 'same-origin'})
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(show)
        .catch(hide);
    }, 150);
  }
  input.addEventListener('input', suggest);
  // Typed before this script ran (a fast typist on a slow page): suggest for it now.
  if (document.activeElement === input && input.value.trim().length >= 2) { suggest(); }
  document.addEventListener('click', function (e) { if (!box.contains(e.target) && e.target !== input) { hide(); } });
  input.addEventListener('keydown', function (e) { if (e.key === 'Escape') { hide(); } });
})();

// Action forms: one submit per page load (the idempotency key also guards the server side).
document.querySelectorAll('form.action-form').forEach(function (form) {
  form.addEventListener('submit', function () {
    var button = form.querySelector('[data-once]');
    if (button) { setTimeout(function () { button.disabled = true; }, 0); }
  });
});

// The CSP runs no inline handlers (onclick=, onsubmit=) and no javascript: links, so:
// <form data-confirm="…"> asks before it submits (before any other submit listener);
document.addEventListener('submit', function (event) {
  var message = event.target.getAttribute && event.target.getAttribute('data-confirm');
  if (message && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
// the bulk actions of a list ("With selected") run Flask-Admin's modelActions;
document.addEventListener('click', function (event) {
  var item = event.target.closest && event.target.closest('[data-model-action]');
  if (item) {
    event.preventDefault();
    if (window.modelActions) { window.modelActions.execute(item.getAttribute('data-model-action')); }
    return;
  }
  // the Add button of an inline list (a plan's services, a document's lines);
  var add = event.target.closest && event.target.closest('[data-add-inline]');
  if (add) {
    event.preventDefault();
    if (window.faForm) { window.faForm.addInlineField(add, add.getAttribute('data-add-inline')); }
    return;
  }
  // Flask-Admin's href="javascript:void(0)" links (tabs, filter menu, pagination) go nowhere.
  // Capture phase: Flask-Admin's multi-level dropdown hack stops the click's propagation on
  // its menu toggles without preventing the javascript: navigation.
  var link = event.target.closest && event.target.closest('a[href^="javascript:"]');
  if (link) { event.preventDefault(); }
}, true);
