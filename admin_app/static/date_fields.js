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
  var WITH_TIME = {datepicker: false, datetimepicker: true};

  function typedMoment(text, format) {
    // Strict, so "2" or "2026-1" is not a date yet; seconds are optional.
    var m = moment($.trim(text), [format, format.replace(':ss', '')], true);
    return m.isValid() ? m : null;
  }

  function openingMoment($el, format) {
    var now = $el.attr('data-clinic-now');
    return (now && typedMoment(now, 'YYYY-MM-DD HH:mm')) || moment().seconds(0);
  }

  function setQuietly(picker, m) {
    // Move the calendar without writing to the box: the "old" dates match, so hiding the
    // calendar has nothing to apply.
    picker.startDate = m.clone();
    picker.endDate = m.clone();
    picker.oldStartDate = m.clone();
    picker.oldEndDate = m.clone();
    picker.updateView();
    picker.updateCalendars();
  }

  function setUp($el, role) {
    var withTime = WITH_TIME[role];
    var format = $el.attr('data-date-format') || (withTime ? 'YYYY-MM-DD HH:mm' : 'YYYY-MM-DD');
    var $slot = $('<div class="date-picker-slot"></div>').insertAfter($el);
    $el.daterangepicker({
      singleDatePicker: true,
      showDropdowns: true,
      timePicker: withTime,
      timePickerIncrement: 1,
      timePicker12Hour: false,
      format: format,
      parentEl: $slot,
      locale: {applyLabel: withTime ? 'Use this time' : 'Use this date', cancelLabel: 'Close'}
    }, function () { $el.trigger('change'); });
    var picker = $el.data('daterangepicker');
    $el.off('keyup.daterangepicker').on('keyup.daterangepicker', function () {
      var m = typedMoment($el.val(), format);
      if (m) { setQuietly(picker, m); }
    });
    $el.on('show.daterangepicker', function () {
      setQuietly(picker, typedMoment($el.val(), format) || openingMoment($el, format));
      // Close on a click elsewhere, not on the mouse going down: closing moves what follows
      // the calendar up, and a press on Save would otherwise be released beside it.
      $(document).off('mousedown.daterangepicker touchend.daterangepicker')
        .on('click.daterangepicker', picker._outsideClickProxy);
    });
    return true;
  }

  function register(faForm) {
    faForm.addFieldConverter(function ($el, name) {
      return name in WITH_TIME ? setUp($el, name) : false;
    });
  }

  // form.js (loaded after this file on form pages, before it on lists) announces itself.
  if (window.faForm) { register(window.faForm); }
  $(document).on('adminFormReady', function () { register(window.faForm); });
})(window.jQuery);
