// Date and date-time fields (forms and list filters): Flask-Admin's calendar (daterangepicker
// 1.3), set up so that
//  - what the admin types stays as typed: the calendar follows a complete, valid date
//    ("2026-12-03 14:30") and never rewrites the box (Flask-Admin's rewrote "2" into
//    "0002-01-01 00:00:00" after the first key);
//  - the calendar opens inside the page, under its field, pushing what follows down, so it
//    never covers the form's Save buttons (and it closes on a click elsewhere, so a click on
//    Save is not lost to the layout moving up under the pointer);
//  - an empty field's calendar starts at the clinic's "now" (data-clinic-now), and leaving the
//    field without choosing writes nothing into it.
(function ($) {
  if (!$) { return; }
  var ROLES = {  // Flask-Admin's data-role: with a time? a range ("from to until")?
    datepicker: {time: false, range: false}, datetimepicker: {time: true, range: false},
    daterangepicker: {time: false, range: true}, datetimerangepicker: {time: true, range: true}
  };
  var SEPARATOR = ' to ';

  function typedMoment(text, format) {
    // Strict, so "2" or "2026-1" is not a date yet; seconds are optional.
    var m = moment($.trim(text), [format, format.replace(':ss', '')], true);
    return m.isValid() ? m : null;
  }

  function typedDates(text, format, range) {
    // [start, end] once what is typed is complete and valid, else null.
    var parts = range ? text.split(SEPARATOR) : [text, text];
    if (parts.length !== 2) { return null; }
    var start = typedMoment(parts[0], format), end = typedMoment(parts[1], format);
    return start && end && !end.isBefore(start) ? [start, end] : null;
  }

  function openingMoment($el) {
    var now = $el.attr('data-clinic-now');
    return (now && typedMoment(now, 'YYYY-MM-DD HH:mm')) || moment().seconds(0);
  }

  function setQuietly(picker, dates) {
    // Move the calendar without writing to the box: the "old" dates match, so hiding the
    // calendar has nothing to apply.
    picker.startDate = dates[0].clone();
    picker.endDate = dates[1].clone();
    picker.oldStartDate = dates[0].clone();
    picker.oldEndDate = dates[1].clone();
    picker.updateView();
    picker.updateCalendars();
  }

  function setUp($el, kind) {
    var format = $el.attr('data-date-format') || (kind.time ? 'YYYY-MM-DD HH:mm' : 'YYYY-MM-DD');
    var $slot = $('<div class="date-picker-slot"></div>').insertAfter($el);
    $el.daterangepicker({
      singleDatePicker: !kind.range,
      separator: SEPARATOR,
      showDropdowns: true,
      timePicker: kind.time,
      timePickerIncrement: 1,
      timePicker12Hour: false,
      format: format,
      parentEl: $slot,
      locale: {applyLabel: kind.time ? 'Use this time' : 'Use this date', cancelLabel: 'Close'}
    }, function () { $el.trigger('change'); });
    var picker = $el.data('daterangepicker');
    // The calendar's own inputs sit inside the page's form now: not part of what it submits.
    picker.container.find('input').attr('form', 'date-picker-own-inputs');
    $el.off('keyup.daterangepicker').on('keyup.daterangepicker', function () {
      var dates = typedDates($el.val(), format, kind.range);
      if (dates) { setQuietly(picker, dates); }
    });
    $el.on('show.daterangepicker', function () {
      var now = openingMoment($el);
      setQuietly(picker, typedDates($el.val(), format, kind.range) || [now, now]);
      // Close on a click elsewhere, not on the mouse going down: closing moves what follows
      // the calendar up, and a press on Save would otherwise be released beside it.
      $(document).off('mousedown.daterangepicker touchend.daterangepicker')
        .on('click.daterangepicker', picker._outsideClickProxy);
    });
    return true;
  }

  function register(faForm) {
    faForm.addFieldConverter(function ($el, name) {
      return ROLES.hasOwnProperty(name) ? setUp($el, ROLES[name]) : false;
    });
  }

  // form.js (loaded after this file on form pages, before it on lists) announces itself.
  if (window.faForm) { register(window.faForm); }
  $(document).on('adminFormReady', function () { register(window.faForm); });
})(window.jQuery);
